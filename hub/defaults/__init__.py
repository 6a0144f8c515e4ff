"""The core's default plugins. They register through the same hooks as any third-party plugin
(Datasette's and pytest's "defaults are plugins too"), so the plugin API is exercised by the
core itself."""
