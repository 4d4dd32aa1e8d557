"""What members learn: privacy-safe aggregate tables (issue 7, in progress)."""
