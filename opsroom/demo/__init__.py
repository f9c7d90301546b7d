"""The demo park: 鞍山西柳·岫玉直播电商产业园.

The park is modelled on the Anshan (辽宁鞍山) live-commerce scene: the 海城西柳
apparel base, the 岫岩 jade (岫玉) base, 千山 南果梨 pears, 绿色食品 rice from
台安, a local MCN, and a hall big screen over ~30 rooms.

- `data`: the park's facts, tables of constants (users, rooms, tenants,
  blackouts, series, anchors, products, the shares of statuses and sales).
- `builders`: one small builder per kind of object, each taking the shared
  `Demo` context: users, tenants, rooms, blackouts, series, bookings, anchors,
  products, people and goods.
- `orders`: a week of orders, and `feed_live_orders` for `flask demo-live`.
- `park`: `load_demo`, which `flask --app wsgi seed-demo` calls.

Import a name from the module that defines it: this package re-exports nothing.
"""
