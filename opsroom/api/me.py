from flask import g, jsonify

from opsroom.api.base import bp, current
from opsroom.web.serialize import user_json
from opsroom.db import get_session
from opsroom.models import Anchor


@bp.get("/me")
def me():
    user = current()
    # The linked anchor's id came with the token's user (one statement); most users have none.
    anchor_id = g.get("api_anchor_id")
    return jsonify(user_json(user, get_session().get(Anchor, anchor_id) if anchor_id is not None else None))
