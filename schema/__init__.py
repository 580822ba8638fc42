"""The GraphQL schema: root Query and Mutation assembled from the domains' resolvers.

The printed SDL is checked in as `schema.graphql` (`redscarf export-schema`) and a test fails
when it drifts from this code.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import strawberry
from strawberry.printer import print_schema

from redscarf.http_guard import IntrospectionGate
from redscarf.subscribers import TransportRules
from resolvers import accounts, pupil_mutations, unit_mutations
from resolvers import activities as activity_resolvers
from resolvers import allow_list as allow_list_resolvers
from resolvers import archive_exports as archive_export_resolvers
from resolvers import badges as badge_resolvers
from resolvers import care as care_resolvers
from resolvers import counselors as counselor_resolvers
from resolvers import counties as county_resolvers
from resolvers import data_requests as data_request_resolvers
from resolvers import exchange as exchange_resolvers
from resolvers import guardians as guardian_resolvers
from resolvers import imports as import_resolvers
from resolvers import jobs as job_resolvers
from resolvers import operations as operation_resolvers
from resolvers import origins as origin_resolvers
from resolvers import pairing as pairing_resolvers
from resolvers import pupils as pupil_resolvers
from resolvers import stats as stats_resolvers
from resolvers import tasks as task_resolvers
from resolvers import transfers as transfer_resolvers
from resolvers import units as unit_resolvers
from schema.accounts import (
    AcceptInvitationPayload,
    ApiKey,
    AuditEntry,
    CreateApiKeyPayload,
    CreateInvitationPayload,
    OkPayload,
    RoleAssignment,
    SignInPayload,
    TotpSetupPayload,
    Viewer,
)
from schema.activities import (
    Activity,
    ActivityConnection,
    ActivityPayload,
    ActivityReach,
    ActivitySignup,
    CancelActivityPayload,
    CheckinCodePayload,
    FinishActivityPayload,
    SignupPayload,
    SignupsPayload,
)
from schema.allow_list import QueryAllowList, QueryAllowListPayload
from schema.badges import (
    AwardObjectionPayload,
    Badge,
    BadgeAward,
    BadgeAwardsPayload,
    BadgePayload,
    BadgeQuotaPayload,
    PointsExpiryPayload,
    PointsRulePayload,
)
from schema.care import (
    CareRecord,
    CareRecordConnection,
    CareRecordPayload,
    VolunteerProject,
    VolunteerProjectConnection,
    VolunteerProjectPayload,
)
from schema.counselors import CounselorConnection, CounselorPayload
from schema.counties import County, CreateCountyPayload, RegionCounty
from schema.data_requests import DataRequest, DataRequestPayload
from schema.errors import PresentErrors, RedscarfSchema
from schema.exchange import (
    ExchangeItem,
    ExchangeItemPayload,
    Partner,
    PartnerPayload,
    Redemption,
    RedemptionConnection,
    RedemptionPayload,
    VerifyRedemptionPayload,
)
from schema.guardians import BindingCodePayload, BindPupilPayload
from schema.imports import ImportRosterPayload, RosterImport
from schema.jobs import Job
from schema.limits import QueryLimits
from schema.live import Subscription
from schema.node import Node
from schema.operations import Operations
from schema.org import Unit, UnitConnection, UnitPayload
from schema.origins import SetAllowedOriginsPayload
from schema.pairing import (
    Pairing,
    PairingConnection,
    PairingConsentPayload,
    PairingCoverage,
    PairingPayload,
    PupilPairingLimitPayload,
    SchoolForPairing,
    SuggestedPair,
)
from schema.persisted import PersistedQueries
from schema.points import ArchiveExport, ExportArchivesPayload
from schema.pupils import (
    EnrolPupilsPayload,
    PromoteGradesPayload,
    Pupil,
    PupilConnection,
    PupilPayload,
)
from schema.scalars import DateTime
from schema.stats import CountySummary, RegionStatistics, Statistics
from schema.tasks import (
    CollectionTask,
    CollectionTaskConnection,
    CollectionTaskPayload,
    TaskSubmission,
    TaskSubmissionConnection,
    TaskSubmissionPayload,
)
from schema.transfers import Transfer, TransferPayload

# The static limits of one request (docs/architecture.md, "Limits"; schema/limits.py).
# units → edges → node → children → children → children → pupilCount is depth 7; leave room.
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
# Fragments expanded. Validation compares the selections merged into one response field in
# pairs: 400 copies of one field took about a second; at these bounds it takes milliseconds.
MAX_FIELDS = 1000
MAX_REPEATS = 20


@strawberry.type(
    description="查询。县（区）内的查询在调用者所属的县进行；可访问多个县的调用者用请求头 X-County 指明。"
)
class Query:
    county: County = strawberry.field(
        resolver=county_resolvers.county, description="当前县（区）及其概况。"
    )
    units: UnitConnection = strawberry.field(
        resolver=unit_resolvers.units,
        description="组织单位（按路径即树的先序排列），Relay 游标分页。",
    )
    unit: Unit | None = strawberry.field(
        resolver=unit_resolvers.unit, description="按全局 ID 取一个单位。"
    )
    node: Node | None = strawberry.field(
        resolver=unit_resolvers.node,
        description="按全局 ID 取任意对象（Relay）；与各类型自己的查询做同样的权限检查。",
    )
    nodes: list[Node | None] = strawberry.field(
        resolver=unit_resolvers.nodes,
        description="按全局 ID 列表取多个对象（最多 100 个，顺序与输入相同）；无权查看或不存在的为 null。",
    )
    pupils: PupilConnection = strawberry.field(
        resolver=pupil_resolvers.pupils,
        description="队员名册：只含调用者有权看到的队员（中队辅导员只看本中队，家长只看已绑定的孩子）。",
    )
    pupil: Pupil | None = strawberry.field(
        resolver=pupil_resolvers.pupil, description="按全局 ID 取一名队员；无权查看时为空。"
    )
    counselors: CounselorConnection = strawberry.field(
        resolver=counselor_resolvers.counselors_list,
        description="调用者辖区内在任的辅导员及其任职经历。",
    )
    incoming_transfers: list[Transfer] = strawberry.field(
        resolver=transfer_resolvers.incoming_transfers,
        description="转入本县（区）、待接收的队员（县级管理员）。",
    )
    roster_import: RosterImport | None = strawberry.field(
        resolver=import_resolvers.roster_import,
        description="一次名册导入的进展和结果（发起人，或对该类名册有全县权限的管理员）。",
    )
    archive_export: ArchiveExport | None = strawberry.field(
        resolver=archive_export_resolvers.archive_export,
        description="一次成长档案导出的进展和下载地址（发起人，或可查看全县队员的管理员）。",
    )
    job: Job | None = strawberry.field(
        resolver=job_resolvers.job,
        description="一个后台任务的进展（县内发起后台任务的管理员和辅导员）；也可用订阅 job 实时跟进。",
    )
    badge_awards: list[BadgeAward] = strawberry.field(
        resolver=badge_resolvers.badge_awards_list,
        description="奖章记录和评选（最新的在前）：调用者可见的队员的，可按奖章、状态、学年、单位筛选。",
    )
    badges: list[Badge] = strawberry.field(
        resolver=badge_resolvers.badge_catalogue,
        description="本县（区）的奖章目录：全国统一的基础章和一至五星章，以及本县的特色章、集体奖章。",
    )
    data_requests: list[DataRequest] = strawberry.field(
        resolver=data_request_resolvers.data_requests_list,
        description="监护人对孩子个人信息的请求（最新的在前，最多 100 项）：辅导员和管理员看辖区内的，监护人看自己提出的。",
    )
    activities: ActivityConnection = strawberry.field(
        resolver=activity_resolvers.activities_list,
        description="活动（新建的在前）：已发布的人人可见，草稿只有组织者可见；可按状态、组织单位、能报名的队员筛选。",
    )
    activity: Activity | None = strawberry.field(
        resolver=activity_resolvers.activity, description="按全局 ID 取一项活动。"
    )
    activity_reach: ActivityReach = strawberry.field(
        resolver=activity_resolvers.activity_reach,
        description="活动覆盖面：服务人数（去重）和人次，按乡镇（街道）和城乡（有统计权限的管理员、辅导员）。",
    )
    partners: list[Partner] = strawberry.field(
        resolver=exchange_resolvers.partners_list,
        description="合作单位（社会单位）：县级管理员看全部，合作单位的人员看自己的。",
    )
    exchange_items: list[ExchangeItem] = strawberry.field(
        resolver=exchange_resolvers.exchange_items_list,
        description="可用积分兑换的物品（新上架的在前）：县内人人可见，合作单位只看自己的。",
    )
    exchange_item: ExchangeItem | None = strawberry.field(
        resolver=exchange_resolvers.exchange_item, description="按全局 ID 取一件兑换物品。"
    )
    redemptions: RedemptionConnection = strawberry.field(
        resolver=exchange_resolvers.redemptions_list,
        description="兑换记录（最新的在前）：县级管理员看全县的，合作单位看自己物品的（没有队员信息）。家长看孩子的：Pupil.redemptions。",
    )
    collection_tasks: CollectionTaskConnection = strawberry.field(
        resolver=task_resolvers.collection_tasks,
        description="征集任务（新建的在前）：进行中和已结束的人人可见，草稿只有组织者可见；可按能参加的队员筛选。",
    )
    collection_task: CollectionTask | None = strawberry.field(
        resolver=task_resolvers.collection_task, description="按全局 ID 取一项征集任务。"
    )
    task_submissions: TaskSubmissionConnection = strawberry.field(
        resolver=task_resolvers.task_submissions_list,
        description="审核队列：辖区内队员的提交（默认待审核的，最早的在前；中队、大队辅导员和县级管理员）。",
    )
    pairings: PairingConnection = strawberry.field(
        resolver=pairing_resolvers.pairings_list,
        description=(
            "本县（区）的结对（最新的在前）：调用者辖区内的本方，以及对方的公开信息。"
            "省、地市管理员看县级以下单位之间的结对，不含队员手拉手。"
        ),
    )
    pairing: Pairing | None = strawberry.field(
        resolver=pairing_resolvers.pairing, description="按全局 ID 取一个结对。"
    )
    pairing_coverage: list[PairingCoverage] = strawberry.field(
        resolver=pairing_resolvers.pairing_coverage,
        description="结对覆盖情况：辖区内每个县（区）的学校结对、农村和新居民子女学校覆盖、手拉手人数（省、地市管理员）。",
    )
    unpaired_schools: list[SchoolForPairing] = strawberry.field(
        resolver=pairing_resolvers.unpaired_schools,
        description="辖区内尚未结对的学校，农村和新居民子女学校在前（省、地市管理员）。",
    )
    suggested_pairs: list[SuggestedPair] = strawberry.field(
        resolver=pairing_resolvers.suggested_pairs,
        description="建议的结对：未结对的农村或新居民子女学校，配有余力的城区学校（优先外县；省、地市管理员）。",
    )
    care_records: CareRecordConnection = strawberry.field(
        resolver=care_resolvers.care_records_list,
        description="关爱记录（最新的在前）：调用者关爱的孩子；县级管理员看到全县的。",
    )
    care_record: CareRecord | None = strawberry.field(
        resolver=care_resolvers.care_record, description="按全局 ID 取一条关爱记录。"
    )
    volunteer_projects: VolunteerProjectConnection = strawberry.field(
        resolver=care_resolvers.volunteer_projects_list,
        description="志愿服务项目（最新的在前）：已发布的全县工作人员可见，需求阶段的提出和发布单位可见。",
    )
    volunteer_project: VolunteerProject | None = strawberry.field(
        resolver=care_resolvers.volunteer_project, description="按全局 ID 取一个志愿服务项目。"
    )
    me: Viewer = strawberry.field(resolver=accounts.me, description="当前调用者及其角色。")
    role_assignments: list[RoleAssignment] = strawberry.field(
        resolver=accounts.role_assignments_in_county,
        description="本县（区）内调用者管辖范围里的角色授权（县级管理员、大队辅导员）。",
    )
    api_keys: list[ApiKey] = strawberry.field(
        resolver=accounts.api_keys_of_county, description="本县（区）的应用密钥（县级管理员）。"
    )
    audit_log: list[AuditEntry] = strawberry.field(
        resolver=accounts.audit_entries,
        description="本县（区）的审计日志，最新的在前（县级管理员）。",
    )
    statistics: Statistics = strawberry.field(
        resolver=stats_resolvers.statistics,
        description="统计：某单位（默认全县）截至某日的存量和某时段的流量，实时精确计算（有统计权限的管理员、辅导员；省、市管理员只能查询全县）。",
    )
    county_summary: CountySummary | None = strawberry.field(
        resolver=stats_resolvers.county_summary,
        description="本县（区）的汇总：本学年至最近一次计算，由后台任务在数据变化后一分钟左右和每天重新计算（见 statistics.computedAt）；首页仪表盘一次读取，不随县的大小变慢。尚未汇总时为空。权限同全县的 statistics；任意单位、任意日期的精确统计用 statistics。",
    )
    region_statistics: RegionStatistics = strawberry.field(
        resolver=stats_resolvers.region_statistics,
        description="地市或省的汇总统计和所辖各县（区）的统计（省、市管理员和平台运维；无需指定县）。",
    )
    region_counties: list[RegionCounty] = strawberry.field(
        resolver=county_resolvers.region_counties,
        description="省、市所辖的县（区）：开通状态、数据库结构版本和在册人数，含开通中和已归档的（省、市管理员和平台运维；无需指定县）。",
    )
    query_allow_list: QueryAllowList = strawberry.field(
        resolver=allow_list_resolvers.query_allow_list,
        description="本县（区）的查询白名单：已登记的查询，以及是否只接受它们（县级管理员）。",
    )
    operations: Operations = strawberry.field(
        resolver=operation_resolvers.operations,
        description="平台运维视图：各县（区）租户的规模和 schema 版本，后台任务的排队、失败和重试（只有平台运维）。",
    )


@strawberry.type(description="变更。")
class Mutation:
    register_queries: QueryAllowListPayload = strawberry.field(
        resolver=allow_list_resolvers.register_queries,
        description="登记本县（区）应用使用的查询（须是有效操作；同一全文再次登记只更新名称；县级管理员）。",
    )
    unregister_query: QueryAllowListPayload = strawberry.field(
        resolver=allow_list_resolvers.unregister_query,
        description="删除一个已登记的查询（县级管理员）。",
    )
    set_allow_list_enforced: QueryAllowListPayload = strawberry.field(
        resolver=allow_list_resolvers.set_allow_list_enforced,
        description="只接受已登记的查询，或取消这一限制；白名单为空时不能开启（县级管理员不受限制）。",
    )
    create_county: CreateCountyPayload = strawberry.field(
        resolver=county_resolvers.create_county,
        description=(
            "开通一个县（区）租户：建 schema、建角色、迁移、预置全国奖章体系；信息相同的重复调用无副作用。"
            "本省的省级管理员或平台运维可用。"
        ),
    )
    sign_in: SignInPayload = strawberry.field(
        resolver=accounts.sign_in,
        description="用户名和密码登录；连续失败 5 次锁定 15 分钟。管理员还需 verifyTotp。",
    )
    setup_totp: TotpSetupPayload = strawberry.field(
        resolver=accounts.setup_totp, description="管理员首次登录：生成动态口令密钥。"
    )
    verify_totp: SignInPayload = strawberry.field(
        resolver=accounts.verify_totp, description="管理员登录第二步：输入动态口令。"
    )
    refresh_session: SignInPayload = strawberry.field(
        resolver=accounts.refresh_session,
        description="用刷新令牌换新的令牌（旧的随即失效；重复使用旧令牌会结束整个会话）。",
    )
    request_login_code: OkPayload = strawberry.field(
        resolver=accounts.request_login_code,
        description="家长：向手机号发送登录验证码（每分钟一次）。",
    )
    sign_in_with_code: SignInPayload = strawberry.field(
        resolver=accounts.sign_in_with_code,
        description="家长：用手机验证码登录，首次登录即注册。",
    )
    sign_out: OkPayload = strawberry.field(
        resolver=accounts.sign_out, description="退出登录：结束当前会话。"
    )
    change_password: OkPayload = strawberry.field(
        resolver=accounts.change_password, description="修改密码；其他会话随之结束。"
    )
    create_invitation: CreateInvitationPayload = strawberry.field(
        resolver=accounts.create_invitation,
        description="邀请某人担任角色（省级邀请县级管理员，县级邀请乡镇管理员和辅导员，大队辅导员邀请中队辅导员）。",
    )
    accept_invitation: AcceptInvitationPayload = strawberry.field(
        resolver=accounts.accept_invitation, description="接受邀请。"
    )
    revoke_role: OkPayload = strawberry.field(
        resolver=accounts.revoke_role, description="撤销一项角色授权，立即生效。"
    )
    create_api_key: CreateApiKeyPayload = strawberry.field(
        resolver=accounts.create_api_key,
        description="为本县（区）自己的应用创建密钥（县级管理员）；密钥只显示一次。",
    )
    create_unit: UnitPayload = strawberry.field(
        resolver=unit_mutations.create_unit,
        description="新设单位（县级、乡镇管理员和大队辅导员，在本辖区内）。",
    )
    update_unit: UnitPayload = strawberry.field(
        resolver=unit_mutations.update_unit, description="修改单位名称、城乡属性、学校类别或年级。"
    )
    move_unit: UnitPayload = strawberry.field(
        resolver=unit_mutations.move_unit,
        description="把单位连同下级移到新上级之下；其中的角色授权和应用密钥随之移动。",
    )
    archive_unit: UnitPayload = strawberry.field(
        resolver=unit_mutations.archive_unit,
        description="撤销（归档）单位及其下级；须先调出其中的在册队员。",
    )
    issue_binding_code: BindingCodePayload = strawberry.field(
        resolver=guardian_resolvers.issue_binding_code,
        description="为一名队员生成绑定码，交给家长（可改动该队员的辅导员、管理员）。",
    )
    bind_pupil: BindPupilPayload = strawberry.field(
        resolver=guardian_resolvers.bind_pupil,
        description="家长（已登录）绑定孩子：凭绑定码，或孩子的身份证号码和姓名；同时记录对告知书的同意。",
    )
    unbind_pupil: OkPayload = strawberry.field(
        resolver=guardian_resolvers.unbind_pupil, description="家长解除与孩子的绑定。"
    )
    appoint_counselor: CounselorPayload = strawberry.field(
        resolver=counselor_resolvers.appoint_counselor,
        description="任命一位辅导员（县级、乡镇管理员和大队辅导员，在本辖区内）。",
    )
    reassign_counselor: CounselorPayload = strawberry.field(
        resolver=counselor_resolvers.reassign_counselor,
        description="辅导员调任：结束现任，开始新任命，经历保留。",
    )
    end_counselor: CounselorPayload = strawberry.field(
        resolver=counselor_resolvers.end_counselor, description="辅导员离任。"
    )
    transfer_pupil: TransferPayload = strawberry.field(
        resolver=transfer_resolvers.transfer_pupil,
        description="队员转学到另一个县（区）：记录随之转出，本县状态记为已转出，待对方接收。",
    )
    accept_transfer: TransferPayload = strawberry.field(
        resolver=transfer_resolvers.accept_transfer,
        description="接收转入的队员，编入本县的中队（县级管理员）。",
    )
    decline_transfer: TransferPayload = strawberry.field(
        resolver=transfer_resolvers.decline_transfer,
        description="不接收转入的队员；转出县的队员恢复原状态（县级管理员）。",
    )
    create_pupil: PupilPayload = strawberry.field(
        resolver=pupil_mutations.create_pupil,
        description="登记一名队员（县级管理员、大队辅导员、中队辅导员，在本辖区内）。",
    )
    update_pupil: PupilPayload = strawberry.field(
        resolver=pupil_mutations.update_pupil_details,
        description="更正队员的姓名、性别、出生日期或身份证号码；原值记入审计日志。",
    )
    move_pupil: PupilPayload = strawberry.field(
        resolver=pupil_mutations.move_pupil,
        description="把队员调到另一个中队（调出和调入的中队都须在辖区内）。",
    )
    change_pupil_status: PupilPayload = strawberry.field(
        resolver=pupil_mutations.change_pupil_status,
        description="离队、离队入团、转出、转入：改变队员状态并记入状态历史。",
    )
    enrol_pupils: EnrolPupilsPayload = strawberry.field(
        resolver=pupil_mutations.enrol_pupils,
        description="分批入队：一批预备队员同一天入队，全部成功或全部不变。",
    )
    promote_grades: PromoteGradesPayload = strawberry.field(
        resolver=pupil_mutations.promote_all_grades,
        description="新学年升级：全县中队和在册队员升一个年级（县级管理员，每学年一次）。",
    )
    request_pupil_data: DataRequestPayload = strawberry.field(
        resolver=data_request_resolvers.request_pupil_data,
        description="监护人就已绑定的孩子提出查阅、复制、更正或删除个人信息的请求（学校也可代为登记）。",
    )
    handle_data_request: DataRequestPayload = strawberry.field(
        resolver=data_request_resolvers.handle_data_request,
        description=(
            "处理监护人的请求（可改动该队员的辅导员、管理员）。删除请求办结即删除该队员的全部个人信息"
            "（县级管理员、大队辅导员），不可恢复；积分等记录保留，归属匿名化。"
        ),
    )
    award_badge: BadgeAwardsPayload = strawberry.field(
        resolver=badge_resolvers.award_badge,
        description=(
            "直接颁发奖章：基础章（学校按学期）、特色章、上级授予的四五星章（县级登记）；"
            "积分按本县规则发放，每项只发一次。一至三星章须经评选（nominateForBadge）。"
        ),
    )
    export_archives: ExportArchivesPayload = strawberry.field(
        resolver=archive_export_resolvers.export_archives,
        description="导出一个中队、学校（或更大范围）所有在调用者辖区内队员的成长档案（后台任务）。",
    )
    set_points_expiry: PointsExpiryPayload = strawberry.field(
        resolver=badge_resolvers.set_points_expiry,
        description="设定积分有效期（按学年；县级管理员）。已有的积分保持原到期日；过期由 `redscarf ledger expire` 每日处理，先用先到期的积分。",
    )
    set_badge_quota: BadgeQuotaPayload = strawberry.field(
        resolver=badge_resolvers.set_badge_quota,
        description="设定一至四星章的评选名额百分比（县级管理员；默认 30、30、20、10）。",
    )
    create_badge: BadgePayload = strawberry.field(
        resolver=badge_resolvers.create_badge,
        description="新设本县的特色章或集体奖章（县级管理员）。",
    )
    update_badge: BadgePayload = strawberry.field(
        resolver=badge_resolvers.update_badge,
        description="修改奖章目录中的一枚（县级管理员）：名称、标准、图标、默认积分、学年。",
    )
    award_collective_badge: BadgeAwardsPayload = strawberry.field(
        resolver=badge_resolvers.award_collective_badge,
        description="颁发集体奖章给中队或大队（县级管理员）；中队的集体奖章计入其大队。",
    )
    nominate_for_badge: BadgeAwardsPayload = strawberry.field(
        resolver=badge_resolvers.nominate_for_badge,
        description="提名一至三星章候选人（一星：中队；二星：学校；三星：县级）：须已获下一级，且不超过名额。",
    )
    review_badge_candidates: BadgeAwardsPayload = strawberry.field(
        resolver=badge_resolvers.review_badge_candidates, description="审核星章候选人。"
    )
    start_badge_notice: BadgeAwardsPayload = strawberry.field(
        resolver=badge_resolvers.start_badge_notice, description="公示审核通过的候选人。"
    )
    record_award_objection: AwardObjectionPayload = strawberry.field(
        resolver=badge_resolvers.record_award_objection, description="登记公示期间收到的异议。"
    )
    resolve_award_objection: AwardObjectionPayload = strawberry.field(
        resolver=badge_resolvers.resolve_award_objection,
        description="处理异议：成立则该候选人不予颁发。",
    )
    confirm_badge_awards: BadgeAwardsPayload = strawberry.field(
        resolver=badge_resolvers.confirm_badge_awards,
        description="公示期满、异议处理完毕后确认颁发，积分随之发放。",
    )
    revoke_badge_award: BadgeAwardsPayload = strawberry.field(
        resolver=badge_resolvers.revoke_badge_award,
        description="撤销已颁发的奖章，积分随之收回（已使用的无法收回时不执行）。",
    )
    set_points_rule: PointsRulePayload = strawberry.field(
        resolver=badge_resolvers.set_points_rule,
        description="设定一枚奖章或一个层级的积分（新版本，自生效日期起适用）。县级管理员。",
    )
    import_roster: ImportRosterPayload = strawberry.field(
        resolver=import_resolvers.import_roster,
        description=(
            "导入一份已上传的名册（队员、组织架构或辅导员）：后台逐行校验，全部无误才写入，"
            "有错则全部不写入并给出错误报告；同一文件再导入不会重复登记。"
        ),
    )
    create_activity: ActivityPayload = strawberry.field(
        resolver=activity_resolvers.create_activity,
        description="新建一项活动（草稿；县、乡镇管理员和大队、中队辅导员，在本辖区内）。",
    )
    update_activity: ActivityPayload = strawberry.field(
        resolver=activity_resolvers.update_activity,
        description="修改活动：草稿可改任何一项，已发布的只能改名称、介绍、地点和增加名额。",
    )
    publish_activity: ActivityPayload = strawberry.field(
        resolver=activity_resolvers.publish_activity,
        description="发布活动：在报名时间内可报名。",
    )
    close_activity_signup: ActivityPayload = strawberry.field(
        resolver=activity_resolvers.close_activity_signup,
        description="提前截止报名（仍可签到）。",
    )
    finish_activity: FinishActivityPayload = strawberry.field(
        resolver=activity_resolvers.finish_activity,
        description="结束活动：未签到的记为未到（积分按活动设定照扣或退还），候补者不再递补。",
    )
    cancel_activity: CancelActivityPayload = strawberry.field(
        resolver=activity_resolvers.cancel_activity,
        description="取消活动：立即停止报名和签到，报名者预留的积分由后台任务全部退还（每人一次）。",
    )
    sign_up_for_activity: SignupsPayload = strawberry.field(
        resolver=activity_resolvers.sign_up_for_activity,
        description=(
            "报名：家长为自己的孩子，辅导员为辖区内的一组队员。名额内的确认并预留积分，其余按先后候补；"
            "重复报名、不在报名时间、不符合条件、积分不足的，整组都不报名并说明原因。"
        ),
    )
    cancel_activity_signup: SignupPayload = strawberry.field(
        resolver=activity_resolvers.cancel_activity_signup,
        description="取消报名（取消截止时间之前）：预留的积分退还，空出的名额给候补的第一位。",
    )
    check_in_pupil: SignupPayload = strawberry.field(
        resolver=activity_resolvers.check_in_pupil,
        description="签到（组织者或队员的辅导员）：预留的积分结算，签到奖励发放，各只一次。",
    )
    issue_checkin_code: CheckinCodePayload = strawberry.field(
        resolver=activity_resolvers.issue_checkin_code,
        description="生成活动的签到码，在现场公布（组织者）；再生成一次则旧码作废。",
    )
    check_in_with_code: SignupPayload = strawberry.field(
        resolver=activity_resolvers.check_in_with_code,
        description="家长凭现场公布的签到码为孩子签到。",
    )
    create_partner: PartnerPayload = strawberry.field(
        resolver=exchange_resolvers.create_partner,
        description="登记合作单位（县级管理员）；其人员凭邀请（角色 PARTNER，范围为 staffScope）登录。",
    )
    update_partner: PartnerPayload = strawberry.field(
        resolver=exchange_resolvers.update_partner, description="修改合作单位（县级管理员）。"
    )
    create_exchange_item: ExchangeItemPayload = strawberry.field(
        resolver=exchange_resolvers.create_exchange_item,
        description="上架兑换物品：积分、库存、每人限兑、兑换期和领取期限（县级管理员，或合作单位为自己）。",
    )
    update_exchange_item: ExchangeItemPayload = strawberry.field(
        resolver=exchange_resolvers.update_exchange_item,
        description="修改兑换物品、补货（addStock）、下架或重新上架。",
    )
    redeem_item: RedemptionPayload = strawberry.field(
        resolver=exchange_resolvers.redeem_item,
        description=(
            "家长用孩子的积分兑换物品：扣积分和减库存在同一事务中完成，得到兑换码；"
            "库存不足、超过限兑、积分不足、不在兑换期的，说明原因且什么都不变。"
        ),
    )
    verify_redemption_code: VerifyRedemptionPayload = strawberry.field(
        resolver=exchange_resolvers.verify_redemption_code,
        description="合作单位核销兑换码：每个码只能核销一次；伪造、他人的或已过期的码说明原因。",
    )
    create_collection_task: CollectionTaskPayload = strawberry.field(
        resolver=task_resolvers.create_collection_task,
        description="新建征集任务（草稿）：在线课程、作品征集或问卷，可设奖励积分和特色章。",
    )
    update_collection_task: CollectionTaskPayload = strawberry.field(
        resolver=task_resolvers.update_collection_task,
        description="修改征集任务：草稿可改任何一项，已发布的只能改名称、说明和截止时间。",
    )
    publish_collection_task: CollectionTaskPayload = strawberry.field(
        resolver=task_resolvers.publish_collection_task, description="发布征集任务。"
    )
    close_collection_task: CollectionTaskPayload = strawberry.field(
        resolver=task_resolvers.close_collection_task,
        description="结束征集任务：不再接受提交，已提交的仍可审核。",
    )
    submit_task_work: TaskSubmissionPayload = strawberry.field(
        resolver=task_resolvers.submit_task_work,
        description="家长为孩子提交作品或问卷回答；待审核或被退回时再次提交即替换。",
    )
    complete_lesson: TaskSubmissionPayload = strawberry.field(
        resolver=task_resolvers.complete_lesson,
        description="记录孩子学完一节在线课程：奖励积分和特色章随即发放，重复记录无副作用。",
    )
    review_task_submission: TaskSubmissionPayload = strawberry.field(
        resolver=task_resolvers.review_task_submission,
        description="辅导员审核一份提交：通过则发放积分和特色章（各一次），退回须写理由；每份只审核一次。",
    )
    propose_pairing: PairingPayload = strawberry.field(
        resolver=pairing_resolvers.propose_pairing,
        description="提议结对：县（区）为本县的一方提议（本方随即确认），省、地市为辖区内的两方提议。",
    )
    accept_pairing: PairingPayload = strawberry.field(
        resolver=pairing_resolvers.accept_pairing,
        description="确认本县（区）一方参加结对；双方都确认后结对开始。外县手拉手须先有家长的单独同意。",
    )
    decline_pairing: PairingPayload = strawberry.field(
        resolver=pairing_resolvers.decline_pairing, description="拒绝一个待确认的结对（本方）。"
    )
    end_pairing: PairingPayload = strawberry.field(
        resolver=pairing_resolvers.end_pairing, description="结束进行中的结对，并写本方的总结。"
    )
    record_pairing_event: PairingPayload = strawberry.field(
        resolver=pairing_resolvers.record_pairing_event,
        description="记录结对双方一起做的事（“六个一”、联合活动、辅导员交流等）；结对须在进行中。",
    )
    withdraw_pairing: PairingPayload = strawberry.field(
        resolver=pairing_resolvers.withdraw_pairing,
        description="提议方撤回尚未开始的结对（提议的县，或提议的省、地市）。",
    )
    review_pairing: PairingPayload = strawberry.field(
        resolver=pairing_resolvers.review_pairing, description="结对结束后补写本方的总结。"
    )
    withdraw_pairing_consent: PairingConsentPayload = strawberry.field(
        resolver=pairing_resolvers.withdraw_pairing_consent,
        description="家长撤回单独同意：孩子退出与外县（区）的手拉手结对，对方不再看到孩子的任何信息。",
    )
    set_pupil_pairing_limit: PupilPairingLimitPayload = strawberry.field(
        resolver=pairing_resolvers.set_pupil_pairing_limit,
        description="设定本县（区）每名队员同时可有的手拉手结对数（县级管理员；默认 1）。",
    )
    give_pairing_consent: PairingConsentPayload = strawberry.field(
        resolver=pairing_resolvers.give_pairing_consent,
        description="家长单独同意：孩子与外县（区）队员手拉手时，向对方显示孩子的名、年级和学校。",
    )
    open_care: CareRecordPayload = strawberry.field(
        resolver=care_resolvers.open_care,
        description="把一名困境儿童纳入关爱（希望小屋、资助；县级管理员）。",
    )
    close_care: CareRecordPayload = strawberry.field(
        resolver=care_resolvers.close_care,
        description="结束关爱；关爱人的查看权限随之结束（县级管理员）。",
    )
    assign_carer: CareRecordPayload = strawberry.field(
        resolver=care_resolvers.assign_carer,
        description="指定关爱人（一对一的志愿者、辅导员），其可查看这条记录并登记走访（县级管理员）。",
    )
    end_carer: CareRecordPayload = strawberry.field(
        resolver=care_resolvers.end_carer,
        description="结束一位关爱人的关爱（县级管理员）。",
    )
    record_care_aid: CareRecordPayload = strawberry.field(
        resolver=care_resolvers.record_care_aid,
        description="登记一笔资助，含金额和来源（县级管理员）。",
    )
    record_care_visit: CareRecordPayload = strawberry.field(
        resolver=care_resolvers.record_care_visit,
        description="登记一次走访：走访人、日期、服务内容、孩子的诉求（关爱人、县级管理员）。",
    )
    raise_volunteer_need: VolunteerProjectPayload = strawberry.field(
        resolver=care_resolvers.raise_volunteer_need,
        description="提出一项志愿服务需求（学校、乡镇或县）。",
    )
    publish_volunteer_project: VolunteerProjectPayload = strawberry.field(
        resolver=care_resolvers.publish_volunteer_project,
        description="发布志愿服务需求，等待认领（乡镇、县级管理员）。",
    )
    claim_volunteer_project: VolunteerProjectPayload = strawberry.field(
        resolver=care_resolvers.claim_volunteer_project,
        description="以一支志愿服务队伍的名义认领项目（每个项目只能认领一次）。",
    )
    report_volunteer_project: VolunteerProjectPayload = strawberry.field(
        resolver=care_resolvers.report_volunteer_project,
        description="报告项目已承办（认领人，或乡镇、县级管理员）。",
    )
    review_volunteer_project: VolunteerProjectPayload = strawberry.field(
        resolver=care_resolvers.review_volunteer_project,
        description="写下项目的总结评价（乡镇、县级管理员）。",
    )
    revoke_api_key: OkPayload = strawberry.field(
        resolver=accounts.revoke_api_key, description="吊销应用密钥，立即生效。"
    )
    set_allowed_origins: SetAllowedOriginsPayload = strawberry.field(
        resolver=origin_resolvers.set_allowed_origins,
        description="登记本县（区）网页前端的来源，浏览器中的页面才能跨域调用本接口（县级管理员）。",
    )


schema = RedscarfSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    scalar_overrides={dt.datetime: DateTime},
    types=[
        Unit,
        Pupil,
        RosterImport,
        DataRequest,
        Badge,
        BadgeAward,
        Activity,
        ActivitySignup,
        Partner,
        ExchangeItem,
        Redemption,
        CollectionTask,
        TaskSubmission,
        Pairing,
        CareRecord,
        VolunteerProject,
    ],
    # Classes and factories, never instances: an extension instance is shared by every
    # request, and its `execution_context` attribute then belongs to whichever request ran
    # last — under concurrency one request's errors went out unmasked (the leak test saw it).
    extensions=[
        PresentErrors,
        IntrospectionGate,
        TransportRules,
        PersistedQueries,
        # Last: it runs the validation itself, after its cheaper checks (schema/limits.py).
        partial(
            QueryLimits,
            max_depth=MAX_DEPTH,
            max_aliases=MAX_ALIASES,
            max_tokens=MAX_TOKENS,
            max_fields=MAX_FIELDS,
            max_repeats=MAX_REPEATS,
        ),
    ],
)


def export_sdl() -> str:
    return print_schema(schema) + "\n"
