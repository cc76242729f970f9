"""Domain services: the rules. They never commit and never raise HTTP errors."""
