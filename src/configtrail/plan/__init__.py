"""The offline plan: run the real program through Pulumi's mock runtime and capture the whole
resource graph, in the shape of `pulumi stack export` (and of `pulumi preview --json`)."""
