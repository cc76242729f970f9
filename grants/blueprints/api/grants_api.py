"""API: the grants a user may see (their organization's, their programs', or all for leadership)."""
from __future__ import annotations

from marshmallow import RAISE
from sqlalchemy.orm import joinedload

from grants.blueprints.api.common import api_blueprint, check_id, current_api_user, documented, paginate
from grants.blueprints.api.schemas import GrantPageSchema, GrantQuerySchema, GrantSchema
from grants.models import Grant, Program
from grants.services import access

bp = api_blueprint("api_grants", "Grants (awards) you may see.")


def grant_out(g: Grant) -> dict:
    return {
        "id": g.id, "award_number": g.award_number, "title": g.title or "", "program": g.program.code,
        "organization": {"id": g.organization.id, "legal_name": g.organization.legal_name, "state": g.organization.state},
        "community": {"name": g.community.name, "state": g.community.state,
                      "community_type": g.community.community_type, "hhs_region": g.community.hhs_region},
        "officer": g.officer.name if g.officer else None, "start_date": g.start_date, "end_date": g.end_date,
        "award_amount": f"{g.award_amount:.2f}", "status": g.status,
    }


@bp.route("/grants")
@documented(bp, 422)
@bp.arguments(GrantQuerySchema, location="query", unknown=RAISE)
@bp.response(200, GrantPageSchema)
def grant_list(args: dict):
    """Grants you may see, filtered and paged."""
    query = access.visible_grants(current_api_user()).options(
        joinedload(Grant.program), joinedload(Grant.organization), joinedload(Grant.community), joinedload(Grant.officer)
    )
    if args.get("program"):
        query = query.join(Program, Program.id == Grant.program_id).where(Program.code == args["program"].upper())
    if args.get("status"):
        query = query.where(Grant.status == args["status"])
    items, meta = paginate(query.order_by(Grant.award_number), args["page"], args["per_page"])
    return {"items": [grant_out(g) for g in items], "meta": meta}


@bp.route("/grants/<int:grant_id>")
@documented(bp, 404)
@bp.response(200, GrantSchema)
def grant_read(grant_id: int):
    """One grant; 404 when it is not one you may see."""
    return grant_out(access.get_grant(current_api_user(), check_id(grant_id)))
