"""The OpenAPI document lists every route the API serves, with its methods."""
import re


def test_every_api_route_is_documented(app, client):
    spec = client.get("/api/v1/openapi.json").json
    served = {(re.sub(r"<(?:int:)?\w+>", "{id}", rule.rule[len("/api/v1"):]), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert served - documented == set()
    assert documented - served == set()
