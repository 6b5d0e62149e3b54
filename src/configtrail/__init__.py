"""ConfigTrail: an audited AWS Config recording stack for AI/ML systems, and its offline tooling."""
