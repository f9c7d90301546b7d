"""Pages of requests (预约申请): a tenant's home and request form, the coordinators' queue."""
