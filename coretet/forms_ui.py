"""Template helper for form inputs: accessibility attributes and htmx inline validation."""


def input_attrs(field, check_url=None, live=False, extra=None):
    """Attributes for a field's <input>: errors described, and checked by htmx as the user types."""
    attrs = dict(extra or {})
    attrs["aria-describedby"] = f"{field.id}-feedback"
    attrs["aria-invalid"] = "true" if field.errors else "false"
    if check_url:
        attrs["hx-post"] = check_url
        attrs["hx-trigger"] = "change, keyup changed delay:600ms" if live else "change"
        attrs["hx-target"] = f"#{field.id}-feedback"
        attrs["hx-swap"] = "outerHTML"
        attrs["hx-sync"] = "this:replace"
    return attrs
