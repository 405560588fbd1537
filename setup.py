"""Build of the optional C scanner (kubelog._fastscan); everything else is in pyproject.toml.

The extension is optional: without a C compiler kubelog installs and runs on its
pure-Python/Arrow parser (slower; `kubelog formats` says which is in use).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "kubelog._fastscan",
            ["kubelog/_native/fastscan.c"],
            optional=True,
            extra_compile_args=["-O2", "-std=c99", "-Wall"],
        )
    ]
)
