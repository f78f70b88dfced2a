import factory
from factory.django import DjangoModelFactory

from hubs.models import Company, Hub, Membership, Role, User

PASSWORD = "a-long-test-password-42"


class HubFactory(DjangoModelFactory):
    class Meta:
        model = Hub
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"T{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}")
    name = factory.LazyAttribute(lambda hub: f"Hub {hub.code}")
    country = "CN"
    currency = "CNY"
    timezone = "Asia/Shanghai"


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company

    legal_name = factory.Sequence(lambda n: f"Exporter {n} Co., Ltd.")
    country = factory.LazyAttribute(lambda company: company.home_hub.country)
    home_hub = factory.SubFactory(HubFactory)
    registration_number = factory.Sequence(lambda n: f"REG{n:08d}")
    home_currency = factory.LazyAttribute(lambda company: company.home_hub.currency)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(user, create, extracted, **kwargs):
        if create:
            user.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.SELLER_ADMIN
