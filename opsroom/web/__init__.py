"""What both faces (the pages and the JSON API) share and neither owns: the Flask
extensions, error handling, security headers, URL converters, guards, the
browser login, locale and park-time formatting, JSON shapes."""
