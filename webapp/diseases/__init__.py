"""The disease library: one page per diagnostic class (``/diseases``, ``/diseases/{code}``), in English and Korean."""
