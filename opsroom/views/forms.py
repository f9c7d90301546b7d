"""WTForms for the HTML faces. Field rules here are about shape only; the
business rules run in the services and come back as field errors."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from opsroom.domain.booking_rules import MAX_BOOKING_MINUTES, MAX_CHANGEOVER_MINUTES
from opsroom.domain.numbers import MAX_STOCK, MAX_ZONE_ORDER, whole_number
from opsroom.domain.statuses import TENANT_STATUSES


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def optional_id(value) -> int | None:
    """A select's value as an id; the empty option means none."""
    if value in (None, "", "None"):
        return None
    return int(value)


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


class PostForm(FlaskForm):
    """An empty form: a POST button that carries only the CSRF token."""


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=options([("zh_CN", "中文"), ("en", "English")]))
    next = HiddenField()


class TokenForm(FlaskForm):
    label = StringField(_l("Label"), validators=[Optional(), Length(max=100)])


class RoomForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    zone = StringField(_l("Zone"), validators=[Optional(), Length(max=50)])
    kind = StringField(_l("Kind"), validators=[Optional(), Length(max=50)])
    area_m2 = FloatField(_l("Area (m²)"), validators=[Optional(), NumberRange(min=0, max=100000)])
    equipment = StringField(_l("Equipment (comma-separated)"), validators=[Optional(), Length(max=500)])
    open_time = TimeField(_l("Opens at"), validators=[DataRequired()])
    close_time = TimeField(_l("Closes at"), validators=[DataRequired()])
    changeover_minutes = IntegerField(_l("Changeover (minutes)"), default=15, validators=[NumberRange(min=0, max=MAX_CHANGEOVER_MINUTES)])
    min_minutes = IntegerField(_l("Shortest booking (minutes)"), default=30,
                               validators=[NumberRange(min=1, max=MAX_BOOKING_MINUTES)])
    max_minutes = IntegerField(_l("Longest booking (minutes)"), default=720,
                               validators=[NumberRange(min=1, max=MAX_BOOKING_MINUTES)])
    order_capacity_per_hour = IntegerField(
        _l("Order capacity per hour"), default=0, validators=[NumberRange(min=0, max=1000000)]
    )
    active = BooleanField(_l("Bookable"), default=True)


def _zone_order(form, field) -> None:
    value = whole_number(field.data, maximum=MAX_ZONE_ORDER)
    if value is None:
        raise ValidationError(_l("Enter a whole number from 0 to %(max)s.", max=MAX_ZONE_ORDER))
    field.data = value


def zone_field_name(zone: str) -> str:
    """A zone's form field: its name in hex, since a zone may be named in any script."""
    return "zone_" + zone.encode("utf-8").hex()


def zone_order_form(zones, **kwargs) -> FlaskForm:
    """One whole-number field per zone (labelled with its name), prefilled with its sort order."""

    class ZoneOrderForm(FlaskForm):
        pass

    for zone in zones:
        setattr(ZoneOrderForm, zone_field_name(zone.name),
                StringField(zone.name, default=str(zone.sort_order), validators=[_zone_order],
                            render_kw={"inputmode": "numeric", "size": 4}))
    return ZoneOrderForm(**kwargs)


class BlackoutForm(FlaskForm):
    starts_at = StringField(_l("From"), validators=[DataRequired()], render_kw={"type": "datetime-local"})
    ends_at = StringField(_l("Until"), validators=[DataRequired()], render_kw={"type": "datetime-local"})
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class TenantForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=16)])
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    status = SelectField(_l("Status"), choices=options((s, s) for s in TENANT_STATUSES))
    priority = SelectField(_l("Priority"), coerce=int, default=2,
                           choices=options([(1, _l("1 (highest)")), (2, "2"), (3, "3")]))
    prime_quota_hours_per_week = IntegerField(_l("Prime-time quota (hours per week)"),
                                              validators=[Optional(), NumberRange(min=0, max=168)])


class TenantAccountForm(FlaskForm):
    """A tenant's account (商家账号), made by an admin. It shares the page with the
    tenant's own form (whose "name" is the tenant's): its own ids, so each label
    names its own field; the posted names stay email, name and password."""
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)], id="account-email")
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)], id="account-name")
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)], id="account-password")


class BookingForm(FlaskForm):
    room_id = SelectField(_l("Room"), coerce=int, validators=[DataRequired()])
    tenant_id = SelectField(_l("Tenant"), coerce=optional_id, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    day = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(_l("Starts"), validators=[DataRequired()])
    end = TimeField(_l("Ends"), validators=[DataRequired()])
    status = SelectField(_l("Status"), default="confirmed")
    repeat = SelectField(_l("Repeat"), default="")
    interval = IntegerField(_l("Every"), default=1, validators=[Optional(), NumberRange(min=1, max=52)])
    weekdays = SelectMultipleField(
        _l("On weekdays"), coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        choices=options([(0, _l("Mon")), (1, _l("Tue")), (2, _l("Wed")), (3, _l("Thu")), (4, _l("Fri")),
                         (5, _l("Sat")), (6, _l("Sun"))]),
        validators=[Optional()],
    )
    until = DateField(_l("Until"), validators=[Optional()])
    count = IntegerField(_l("Occurrences"), validators=[Optional(), NumberRange(min=1, max=366)])
    on_conflict = SelectField(_l("If a date clashes"), default="reject")


class CancelForm(FlaskForm):
    """Cancelling (or ending a live session early) is audited with its reason,
    and asks for an explicit confirmation."""
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=200)])
    scope = SelectField(_l("Which bookings"), default="one")
    confirm = BooleanField(_l("Yes, I am sure"), validators=[DataRequired(_l("Tick the box to confirm."))])


class EndNowForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=200)])
    confirm = BooleanField(_l("Yes, I am sure"), validators=[DataRequired(_l("Tick the box to confirm."))])


# ---------------------------------------------------------------------------
# People and goods (人、货): anchors, products, catalogue import, a booking's
# anchors and lineup. Imported here, not at the top, because this section is
# appended by its own owner.
from flask_wtf.file import FileAllowed, FileField, FileRequired  # noqa: E402
from wtforms import FieldList, Form, FormField  # noqa: E402
from wtforms.validators import InputRequired  # noqa: E402


class AnchorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    tenant_id = SelectField(_l("Belongs to"), coerce=optional_id)
    user_email = StringField(_l("Linked user (email)"), validators=[Optional(), Length(max=254)],
                             render_kw={"type": "email", "autocomplete": "off"})
    verified = BooleanField(_l("Real-name verified"))
    max_minutes_per_day = IntegerField(_l("Daily limit (minutes)"), default=480,
                                       validators=[InputRequired(), NumberRange(min=1, max=1440)])
    min_rest_minutes = IntegerField(_l("Rest between sessions (minutes)"), default=30,
                                    validators=[Optional(), NumberRange(min=0, max=1440)])
    douyin = StringField(_l("Douyin ID"), validators=[Optional(), Length(max=100)])
    kuaishou = StringField(_l("Kuaishou ID"), validators=[Optional(), Length(max=100)])
    active = BooleanField(_l("Active"), default=True)


class ProductForm(FlaskForm):
    tenant_id = SelectField(_l("Tenant"), coerce=int, validators=[DataRequired()])
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=50)])
    price = StringField(_l("Price (yuan)"), validators=[DataRequired(), Length(max=30)],
                        render_kw={"inputmode": "decimal", "autocomplete": "off"})
    stock = IntegerField(_l("Stock"), default=0, validators=[Optional(), NumberRange(min=0, max=MAX_STOCK)])
    certifications = SelectMultipleField(
        _l("Certifications"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[Optional()],
    )
    other_certifications = StringField(_l("Other certifications (separated by 、 or ;)"),
                                       validators=[Optional(), Length(max=300)])
    active = BooleanField(_l("On sale"), default=True)


class CatalogueImportForm(FlaskForm):
    tenant_id = SelectField(_l("Tenant"), coerce=int, validators=[DataRequired()])
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file.")), FileAllowed(["csv"], _l("Only .csv files can be imported."))])


class AnchorSlotForm(Form):
    """One row of a booking's anchors: who, in which role (no CSRF: a subform)."""

    anchor_id = SelectField(_l("Anchor"), coerce=optional_id, validators=[Optional()])
    role = SelectField(_l("Role"), default="host")


class BookingAnchorsForm(FlaskForm):
    slots = FieldList(FormField(AnchorSlotForm), min_entries=3, max_entries=10)


class AddAnchorForm(FlaskForm):
    anchor_id = IntegerField(_l("Anchor"), validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])
    role = SelectField(_l("Role"), default="assistant")


class LineupAddForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=optional_id, validators=[DataRequired()])
    planned_start = TimeField(_l("Planned from"), validators=[Optional()])
    planned_end = TimeField(_l("Planned until"), validators=[Optional()])
    planned_quantity = IntegerField(_l("Planned quantity"), validators=[Optional(), NumberRange(min=0, max=MAX_STOCK)])


class LineupOrderForm(FlaskForm):
    order = HiddenField(_l("Order"), validators=[DataRequired(), Length(max=4000)])


class CopySetupForm(FlaskForm):
    targets = SelectMultipleField(
        _l("Copy to"), coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[Optional()],
    )
    whole_week = BooleanField(_l("The whole week"))


# --- Account security ---


class ReauthForm(FlaskForm):
    """The password again, before admin pages (a recent login)."""
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=200)])


def _refuse_nul(field, form) -> None:
    """No database keeps a NUL character (PostgreSQL refuses it, SQLite would
    store it silently): every text field of every form refuses one with a
    message on the field, on both engines."""
    if isinstance(field.data, str) and "\x00" in field.data:
        from wtforms.validators import StopValidation

        raise StopValidation(_l("Must not contain a NUL character."))


# StringField, and so TextAreaField, PasswordField and HiddenField, whose own
# pre_validate is WTForms' empty default.
StringField.pre_validate = _refuse_nul


class RequestForm(FlaskForm):
    """A request for time (预约申请); a tenant's account asks for its own tenant."""
    tenant_id = SelectField(_l("Tenant"), coerce=int, validators=[Optional()])
    room_id = SelectField(_l("Room"), coerce=int, validators=[Optional()])
    room_kind = SelectField(_l("Kind"), validators=[Optional()])
    zone = SelectField(_l("Zone"), validators=[Optional()])
    day = DateField(_l("Date"), validators=[DataRequired()])
    window_start = TimeField(_l("From"), validators=[DataRequired()])
    window_end = TimeField(_l("Until"), validators=[DataRequired()])
    minutes = IntegerField(_l("Duration (minutes)"), validators=[Optional(), NumberRange(min=15, max=24 * 60)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ApproveForm(FlaskForm):
    # "room_id@ISO start" of a fit, or "" = the first fit; the service checks the place.
    place = SelectField(_l("Place"), validators=[Optional()], validate_choice=False)
    override_reason = StringField(_l("Override reason"), validators=[Optional(), Length(max=500)])


class RejectForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


def _event_choices():
    from opsroom.domain.integrations.messages import EVENT_TYPES
    from opsroom.labels import EVENT_LABELS

    return options([(e, EVENT_LABELS[e]) for e in EVENT_TYPES])


class RobotForm(FlaskForm):
    kind = SelectField(_l("Platform"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    url = StringField(_l("Webhook address"), validators=[DataRequired(), Length(max=500)],
                      render_kw={"autocomplete": "off", "inputmode": "url"})
    secret = StringField(_l("Signing secret (DingTalk, Feishu)"), validators=[Optional(), Length(max=200)],
                         render_kw={"autocomplete": "off"})
    # No DataRequired: it would mark every checkbox required. The service asks for one.
    events = SelectMultipleField(_l("Events"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validators=[Optional()])

    def __init__(self, *args, **kwargs):
        from opsroom.domain.integrations.robots import ROBOT_KINDS
        from opsroom.labels import ROBOT_KIND_LABELS

        super().__init__(*args, **kwargs)
        self.kind.choices = options([(k, ROBOT_KIND_LABELS[k]) for k in ROBOT_KINDS])
        self.events.choices = _event_choices()


class WebhookForm(FlaskForm):
    # It shares the integrations page with RobotForm: its own ids (the posted names
    # stay url, secret, events), so its labels and event boxes are its own.
    url = StringField(_l("Endpoint URL"), validators=[DataRequired(), Length(max=500)],
                      render_kw={"autocomplete": "off", "inputmode": "url"}, id="webhook-url")
    secret = StringField(_l("Secret"), validators=[DataRequired(), Length(max=200)],
                         render_kw={"autocomplete": "off"}, id="webhook-secret")
    # No DataRequired: it would mark every checkbox required. The service asks for one.
    events = SelectMultipleField(_l("Events"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validators=[Optional()], id="webhook-events")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = _event_choices()
