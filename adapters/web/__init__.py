"""gigroom's own web server (aiohttp): Slack's request URL, OAuth pages, a health check."""
