"""Pure domain: values in, records/events/problems out; no store, git, Click or disk."""
