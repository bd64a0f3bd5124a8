"""The plugin host: hook specifications, the plugin manager, the Task API."""
