"""Benchmark and reliability tooling for crmcli (not installed with the package).

``python -m bench.generate`` builds a realistic records store; ``python -m bench.run``
times real ``crm`` commands against it. See bench/README.md.
"""
