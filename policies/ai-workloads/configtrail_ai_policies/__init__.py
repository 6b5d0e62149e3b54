"""CrossGuard policies for AI workload stacks, generated from the AI control catalog."""
