"""Extension singletons, initialised by create_app."""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
api = Api()

# Set by code outside a request that reads and then writes (the scheduler's jobs), so that SQLite
# takes the write lock when the transaction begins (see grants._sqlite_begin).
sqlite_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)


@contextmanager
def writing_transaction() -> Iterator[None]:
    """A session transaction of its own for the writes of a request that otherwise only reads (a
    page view), used before the request has changed anything. The current transaction ends first
    (committed: on a page view it only read), and the new one takes SQLite's write lock when it
    begins: SQLite refuses at once, with 'database is locked' and no wait, a read transaction
    that tries to write after another connection has committed. Commits at the end, rolls back
    on an error."""
    db.session.commit()
    token = sqlite_write_intent.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        sqlite_write_intent.reset(token)


def insert_ignoring_conflicts(model):
    """INSERT ... ON CONFLICT DO NOTHING on the model's table, in the database's own dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model.__table__).on_conflict_do_nothing()
