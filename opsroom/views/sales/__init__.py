"""Pages of sales: order imports and unattributed orders, a session's review, the big screen."""
