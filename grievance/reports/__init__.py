"""What members learn: privacy-safe aggregate tables, outcomes and the effectiveness report."""
