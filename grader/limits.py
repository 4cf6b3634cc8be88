"""The resource limits of a sandboxed worker (kept apart from :mod:`grader.sandbox` so that the command line can
read them without importing torch)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Limits(BaseModel):
    """Resource limits of one worker; every field can be set from the command line."""

    memory_bytes: int = Field(4 << 30, description="address space of the worker process")
    max_processes: int = Field(64, description="processes and threads of the worker's own user (as root)")
    max_file_bytes: int = Field(16 << 20, description="largest file the worker may write")
    max_output_bytes: int = Field(64 << 10, description="captured stdout/stderr kept for the report")
    startup_seconds: float = Field(120.0, description="time to start and import torch")
    tmp_bytes: int = Field(64 << 20, description="size of the private /tmp (bubblewrap only)")
