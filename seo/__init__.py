"""Rich-snippet JSON-LD builders and validator: coming with the SEO issue."""
