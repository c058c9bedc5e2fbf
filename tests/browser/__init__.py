"""Browser tests: the web app in Debian's Chromium, driven by Playwright, against a real
``voxregen serve``, as a user clicks."""
