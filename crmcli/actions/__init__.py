"""One module per noun: resolve, build through the domain, write one transaction, return a result."""
