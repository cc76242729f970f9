"""WTForms classes for the HTML pages (the API uses marshmallow schemas instead)."""
