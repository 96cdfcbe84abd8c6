def write_synthetic(*a, **k):
    raise NotImplementedError
