from flask import jsonify

from opsroom.api import bp, current
from opsroom.api.serialize import user_json


@bp.get("/me")
def me():
    return jsonify(user_json(current()))
