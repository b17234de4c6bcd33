"""Turning results into what people see: tables, screens, report files. Never reads the store."""
