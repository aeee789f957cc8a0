"""Collectors: each turns one kind of source (platform API, forms, web pages, files) into review records."""
