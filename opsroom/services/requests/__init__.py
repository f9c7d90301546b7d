"""Requests (预约申请) and the waitlist (候补): tenants ask for time, coordinators decide, freed time is offered."""
