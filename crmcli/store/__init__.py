"""The store: files, git, lock, transactions, recovery, id resolution and derived caches."""
