"""The aiohttp app: REST API, Socket.IO namespaces, auth and web assets."""
