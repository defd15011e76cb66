"""Reporter pages: plain HTML forms that work without JavaScript."""
