"""WTForms classes for the HTML pages (the API uses marshmallow schemas instead)."""


def add_service_errors(form, errors: dict[str, list[str]], aliases: dict[str, str] | None = None) -> None:
    """Put a service's per-field errors (ValidationFailed.errors) on the form's fields, through
    `aliases` where the service's name for a field differs; keys of no field go to the form."""
    aliases = aliases or {}
    for key, messages in errors.items():
        field = getattr(form, aliases.get(key, key), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)
