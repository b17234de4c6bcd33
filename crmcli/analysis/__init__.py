"""Read-side: rows, frames, reports, search and the 360-degree overview."""
