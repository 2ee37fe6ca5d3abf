"""The optional C extensions (the metadata is in pyproject.toml).

Each is `optional`: where no C compiler is available the build warns, skips it, and cexarb
runs its pure-Python path for that module (same behaviour, same tests, slower).
"""

from setuptools import Extension, setup


def _ext(name: str, source: str) -> Extension:
    return Extension(name, [source], optional=True, extra_compile_args=["-O2"])


setup(
    ext_modules=[
        _ext("cexarb.exchange._ladder", "src/cexarb/exchange/_ladder.c"),
        _ext("cexarb.venues.mexc._pushwire", "src/cexarb/venues/mexc/_pushwire.c"),
        _ext("cexarb.venues.gateio._gatewire", "src/cexarb/venues/gateio/_gatewire.c"),
    ]
)
