"""The optional C extension of the field diff (everything else is in pyproject.toml).

configtrail.history._diffcore is diff_sections in C. It is optional: without a C compiler the
install still succeeds and configtrail.history.diff uses its pure-Python diff_sections.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "configtrail.history._diffcore",
            ["src/configtrail/history/_diffcore.c"],
            optional=True,
        )
    ]
)
