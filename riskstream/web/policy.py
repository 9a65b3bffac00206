"""Which role each route needs. A route not listed here is for admins only, so a view
added without a line here is closed rather than open."""

from __future__ import annotations

from riskstream.streams.access import Role

PUBLIC: frozenset[tuple[str, str]] = frozenset({("GET", "/health/"), ("GET", "/metrics")})
REQUIRED: dict[tuple[str, str], Role] = {
    ("POST", "/score/"): "scorer",
    ("GET", "/profiles/{entity_type}/{entity_id}/"): "analyst",
    ("GET", "/penalties/"): "analyst",
    ("GET", "/rules/"): "analyst",
    ("GET", "/models/"): "analyst",
    ("GET", "/stats/"): "analyst",
    ("GET", "/stats/memory/"): "analyst",
    ("POST", "/penalties/"): "operator",
    ("DELETE", "/penalties/{penalty_id}/"): "operator",
}
DEFAULT_ROLE: Role = "admin"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writes that must carry a JSON body; a DELETE may have none, but not one of another type.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def required_role(method: str, route: str) -> Role | None:
    """The role ``method`` on ``route`` (its pattern, as registered) needs; None: public."""
    method = "GET" if method == "HEAD" else method
    if (method, route) in PUBLIC:
        return None
    return REQUIRED.get((method, route), DEFAULT_ROLE)


def json_write_refusal(method: str, content_type: str | None) -> str | None:
    """Why a write with this Content-Type is refused (415), or None: writes are JSON only,
    which also keeps out the cross-site form and text/plain POSTs a browser sends freely."""
    if method not in WRITE_METHODS:
        return None
    if content_type is None:
        return "a write needs Content-Type: application/json" if method in BODY_METHODS else None
    media, _, parameters = content_type.partition(";")
    if media.strip().lower() != "application/json":
        return "writes take application/json only"
    charset = parameters.strip().lower().removeprefix("charset=").strip('"')
    if parameters.strip() and charset not in {"utf-8", "utf8"}:
        return "writes take UTF-8 JSON only"
    return None
