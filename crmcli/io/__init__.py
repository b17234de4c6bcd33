"""Moving records in and out: CSV and Excel import/export, vCard, calendar (ics) and email (eml/mbox).

Library code only (no Click). ``importer.plan_import`` reads and checks everything before
``importer.apply_plan`` writes it in one bulk transaction (one commit); ``exporter.export`` writes
xlsx, csv, json, vcf or ics. openpyxl is imported only when an xlsx file is read or written.
"""
