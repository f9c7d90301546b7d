"""The demo park: 鞍山西柳·岫玉直播电商产业园 (`flask --app wsgi seed-demo`)."""
