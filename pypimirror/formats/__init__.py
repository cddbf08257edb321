"""Date and time formats (settings.FORMAT_MODULE_PATH): the admin shows times to the second, in
one numeric form, where Django's English would say "Dec. 3, 2026, 6:41 p.m."."""
