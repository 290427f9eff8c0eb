"""The built-in personas, one YAML file each (package data read by the persona loader)."""
