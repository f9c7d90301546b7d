from flask import jsonify

from opsroom.api import bp, current
from opsroom.api.serialize import user_json
from opsroom.db import get_session
from opsroom.services.anchors import anchor_of


@bp.get("/me")
def me():
    user = current()
    return jsonify(user_json(user, anchor_of(get_session(), user)))
