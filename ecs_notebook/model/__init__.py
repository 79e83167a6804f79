"""Pure request and result models: no I/O, no HTTP, no widgets."""

from .ids import check_project_id, check_server_id, is_project_id, is_server_id
from .password import check_password
from .preview import Preview, preview
from .problems import FIELD_LABELS, Problem, ValidationError
from .reinstall import WITH_STOP_SERVER, ReinstallRequest, dump_json, reinstall_path
from .user_data import USER_DATA_LIMIT, UserData

__all__ = [
    "FIELD_LABELS",
    "USER_DATA_LIMIT",
    "WITH_STOP_SERVER",
    "Preview",
    "Problem",
    "ReinstallRequest",
    "UserData",
    "ValidationError",
    "check_password",
    "check_project_id",
    "check_server_id",
    "dump_json",
    "is_project_id",
    "is_server_id",
    "preview",
    "reinstall_path",
]
