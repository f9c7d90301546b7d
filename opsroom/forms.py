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
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from opsroom.models import TENANT_STATUSES


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


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
    changeover_minutes = IntegerField(_l("Changeover (minutes)"), default=15, validators=[NumberRange(min=0, max=240)])
    min_minutes = IntegerField(_l("Shortest booking (minutes)"), default=30, validators=[NumberRange(min=1, max=1440)])
    max_minutes = IntegerField(_l("Longest booking (minutes)"), default=720, validators=[NumberRange(min=1, max=1440)])
    order_capacity_per_hour = IntegerField(
        _l("Order capacity per hour"), default=0, validators=[NumberRange(min=0, max=1000000)]
    )
    active = BooleanField(_l("Bookable"), default=True)


class BlackoutForm(FlaskForm):
    starts_at = StringField(_l("From"), validators=[DataRequired()], render_kw={"type": "datetime-local"})
    ends_at = StringField(_l("Until"), validators=[DataRequired()], render_kw={"type": "datetime-local"})
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class TenantForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    status = SelectField(_l("Status"), choices=options((s, s) for s in TENANT_STATUSES))


class BookingForm(FlaskForm):
    room_id = SelectField(_l("Room"), coerce=int, validators=[DataRequired()])
    tenant_id = SelectField(_l("Tenant"), coerce=int, validators=[DataRequired()])
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
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=200)])
    scope = SelectField(_l("Which bookings"), default="one")
