from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str) -> object:
    """``{{ actors|get_item:event.actor }}``: a dict lookup by a variable key."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
