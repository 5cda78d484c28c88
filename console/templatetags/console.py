from django import template

from console import words
from seals.models import SealEvent, SealStatus

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str) -> object:
    """``{{ actors|get_item:event.actor }}``: a dict lookup by a variable key."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def word(label: object) -> str:
    """``{{ job.get_state_display|word }}``: a lower layer's choice label, translated."""
    return words.word(label)


@register.filter
def status_word(value: object) -> str:
    """``{{ status|status_word }}``: a seal status (its value or label), translated."""
    try:
        label = SealStatus(str(value)).label
    except ValueError:
        label = str(value)
    return words.status_word(label)


@register.filter
def event_word(value: object) -> str:
    """``{{ event.kind|event_word }}``: a seal event kind, translated."""
    try:
        label = SealEvent.Kind(str(value)).label
    except ValueError:
        label = str(value)
    return words.event_word(label)
