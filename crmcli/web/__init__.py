"""The read-only web view: a static site of the store (``crm site build``) and a live server (``crm serve``).

Above the actions and the renderers, below the command line: it reads through ``crmcli.analysis`` and
``crmcli.store`` and draws with ``crmcli.render``; nothing below imports it.
"""
