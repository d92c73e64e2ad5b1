"""Articles in: file formats, web-page extraction, upload validation."""
