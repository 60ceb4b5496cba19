"""The reporter page's widgets, rendered in Python.

"Mina rapporter" shows a page of rows with five widgets each; through Django's
widget templates (one template per widget, one per option and per attribute
list) they were half the page's server time. ``report_widget`` builds the same
HTML from the same data: the bound field's attributes as Django computes them
(``id``, ``maxlength``, ``aria-describedby`` for help text and error,
``aria-invalid``) and the widget's context (value, options). It knows the
widget types the reporter form uses and hands any other to Django.
"""

from django import forms, template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{conditional_escape(str(value))}"')
    return "".join(parts)


@register.simple_tag
def report_widget(bound: forms.BoundField) -> SafeString:
    widget = bound.field.widget
    if not isinstance(widget, forms.Select | forms.Textarea | forms.TextInput | forms.HiddenInput):
        return bound.as_widget()
    attrs = bound.build_widget_attrs({}, widget)
    if bound.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound.auto_id)
    context = widget.get_context(bound.html_name, bound.value(), attrs)["widget"]
    name = conditional_escape(context["name"])
    attributes = _attrs(context["attrs"])
    if isinstance(widget, forms.Select):
        options = "".join(
            f'<option value="{conditional_escape(str(option["value"]))}"'
            f"{' selected' if option['selected'] else ''}>"
            f"{conditional_escape(str(option['label']))}</option>"
            for _group, group_options, _index in context["optgroups"]
            for option in group_options
        )
        return mark_safe(f'<select name="{name}"{attributes}>{options}</select>')
    value = context["value"]
    if isinstance(widget, forms.Textarea):
        text = conditional_escape(value) if value else ""
        return mark_safe(f'<textarea name="{name}"{attributes}>\n{text}</textarea>')
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return mark_safe(f'<input type="{context["type"]}" name="{name}"{shown}{attributes}>')
