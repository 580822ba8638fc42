// Chinese messages for every error code of the API (docs/api/errors.md), in the order of that
// page and under its headings. The console shows one of these whenever an answer carries no
// Chinese message of its own: an HTTP refusal from a proxy, a network failure, or an error
// whose server message is English (GRAPHQL_INVALID). When the server sends a Chinese message,
// that one is shown instead: it is usually more specific (it may name the field or the row).
// tests/test_console_messages.py keeps this list equal to the documented codes.

export const MESSAGES = Object.freeze({
  // HTTP refusals
  METHOD_NOT_ALLOWED: "请求方式不被接受，请刷新页面后重试",
  UNSUPPORTED_MEDIA_TYPE: "请求格式不正确，请刷新页面后重试",
  BODY_TOO_LARGE: "提交的内容太大，请减少内容后重试",
  REQUEST_TIMEOUT: "网络太慢，请求没能及时送达，请检查网络后重试",
  INVALID_JSON: "请求内容不是有效的 JSON，请刷新页面后重试",
  BATCHING_DISABLED: "一次只能发送一个请求，请刷新页面后重试",
  INVALID_REQUEST: "请求内容的格式不正确，请刷新页面后重试",
  QUERY_MISSING: "请求中缺少查询内容，请刷新页面后重试",
  OPERATION_NOT_FOUND: "请求中没有所指定的操作，请刷新页面后重试",
  BAD_REQUEST: "请求无效，请刷新页面后重试",
  ORIGIN_NOT_ALLOWED: "本网页未获准访问平台，请联系县（区）管理员登记本网页的地址",
  INTERNAL_ERROR: "服务器内部出错，请稍后再试；多次出现请联系管理员",
  TIMEOUT: "处理时间过长，已取消，请缩小查询范围后重试",
  DATABASE_UNAVAILABLE: "平台数据库暂时无法连接，请稍后再试",
  DATABASE_NOT_MIGRATED: "平台数据库尚未升级到当前版本，暂不可用，请联系平台运维",

  // Refused before running
  GRAPHQL_INVALID: "请求的查询无效，请刷新页面后重试；仍不行请联系管理员",
  INTROSPECTION_DISABLED: "未登录时不能查看接口结构，请先登录",
  TOO_MANY_TOKENS: "查询过长，请缩小查询范围后重试",
  QUERY_TOO_DEEP: "查询嵌套过深，请简化查询后重试",
  TOO_MANY_ALIASES: "查询的别名过多，请简化查询后重试",
  QUERY_TOO_WIDE: "查询的字段过多，请简化查询后重试",
  QUERY_TOO_COSTLY: "一次查询的数据太多，请减少每页条数或缩小范围后重试",
  RATE_LIMITED: "操作过于频繁，请稍后再试",
  PERSISTED_QUERY_NOT_FOUND: "服务器没有保存这个查询，请刷新页面后重试",
  PERSISTED_QUERY_INVALID: "已保存查询的参数格式不正确，请刷新页面后重试",
  PERSISTED_QUERY_HASH_MISMATCH: "查询内容与其校验值不符，请刷新页面后重试",
  QUERY_NOT_ALLOWED: "本县（区）只接受已登记的查询，请联系县级管理员登记",

  // Live updates (WebSocket)
  SUBSCRIPTIONS_ONLY: "实时更新连接只用于订阅，请刷新页面后重试",
  SUBSCRIPTION_OVER_HTTP: "订阅须通过实时更新连接发送，请刷新页面后重试",
  TOO_MANY_SUBSCRIPTIONS: "同时关注的实时更新过多（最多 20 项），请关闭一些页面后重试",
  JOB_NOT_FOUND: "没有这项后台任务，或您无权查看",
  REDEMPTION_NOT_FOUND: "没有这次兑换，或您无权查看",
  IMPORT_NOT_FOUND: "没有这次导入，或您无权查看",
  EXPORT_NOT_FOUND: "没有这次导出，或您无权查看",

  // Every request: who, which county, which object
  UNAUTHENTICATED: "尚未登录或登录已过期，请重新登录",
  FORBIDDEN: "您没有权限执行此操作",
  NOT_FOUND: "没有找到要找的内容，它可能已被删除或不在您的权限范围内",
  INVALID_INPUT: "填写的内容有误，请检查后重试",
  CONFLICT: "与现有数据冲突，请刷新页面后重试",
  COUNTY_REQUIRED: "您可访问多个县（区），请先选择要操作的县（区）",
  COUNTY_NOT_FOUND: "没有这个县（区），或您无权访问",
  COUNTY_UNAVAILABLE: "该县（区）已归档或正在开通，暂不可用",
  INVALID_ADMIN_CODE: "行政区划代码不正确：县（区）为 6 位、地市为 4 位、省为 2 位数字",
  INVALID_ID: "编号格式不正确，请刷新页面后重试",
  INVALID_CURSOR: "翻页位置无效，请回到第一页重新查看",
  INVALID_PAGE_SIZE: "每页条数不能为负数",
  TOO_MANY_IDS: "一次最多查询 100 个对象，请分批查询",
  UNDECRYPTABLE_FIELD: "部分加密的个人信息暂时无法解密，请联系平台运维",

  // Accounts and signing in
  INVALID_CREDENTIALS: "用户名或密码不正确，或账号已停用",
  CREDENTIALS_REQUIRED: "请填写用户名和密码",
  ACCOUNT_LOCKED: "连续登录失败次数过多，账号已暂时锁定，请稍后再试",
  MFA_REQUIRED: "管理员账号请用用户名、密码和动态口令登录",
  TOTP_NOT_SET_UP: "请先设置动态口令",
  TOTP_ALREADY_ENABLED: "已绑定动态口令，请直接输入口令",
  INVALID_CODE: "验证码或动态口令不正确或已过期，请重新输入",
  INVALID_PHONE: "请填写 11 位手机号码",
  WEAK_PASSWORD: "密码至少 10 位，并包含大写字母、小写字母、数字、符号中的至少三类",
  INVALID_USERNAME: "用户名为 3–64 位小写字母、数字、下划线、点或连字符，以字母或数字开头",
  USER_EXISTS: "该用户名或手机号已被使用",
  INVITATION_NOT_FOUND: "邀请不存在、已使用或已过期，请向邀请人重新索取",
  INVALID_ROLE: "这个角色不能在这里授予",
  INVALID_SCOPE: "这个角色不能设在所选的单位或层级",
  NAME_REQUIRED: "名称不能为空，请填写",
  NO_SESSION: "当前凭据不是登录会话，无需退出登录",
  GRANT_NOT_FOUND: "没有这项角色授权，它可能已被撤销",
  API_KEY_NOT_FOUND: "没有这个应用密钥，它可能已被撤销",

  // Guardians
  BINDING_NOT_FOUND: "绑定码无效、已使用或已过期，或身份证号码与姓名不符",
  BINDING_LOCKED: "绑定失败次数过多，请一小时后再试，或向学校索取绑定码",
  BINDING_REQUIRED: "请填写学校发的绑定码，或孩子的身份证号码和姓名",
  CONSENT_REQUIRED: "请先阅读并同意个人信息保护告知书",

  // Onboarding a county
  COUNTY_EXISTS_WITH_OTHER_DETAILS: "该县（区）已开通，但名称或所属省、市与本次填写的不一致",
  COUNTY_ARCHIVED: "该县（区）已归档",
  CODE_NOT_IN_PROVINCE: "该县（区）的行政区划代码不属于所填的省",
  CODE_NOT_IN_PREFECTURE: "该县（区）的行政区划代码不属于所填的地市",
  PREFECTURE_NOT_FOUND: "没有这个地市，请先创建地市",

  // Organisation and counselors
  UNIT_NOT_FOUND: "没有这个单位，或不在您的管理范围内",
  UNIT_NOT_EMPTY: "该单位还有在册队员，请先将队员调出再撤销",
  UNIT_ARCHIVED: "该单位已撤销",
  INVALID_PLACEMENT: "单位不能放在这里",
  INVALID_NAME: "名称不能为空，也不能过长",
  INVALID_GRADE: "年级应为 1–9，且只有中队填写年级",
  INVALID_SCHOOL_KIND: "只有学校（大队）填写学校类别",
  WRONG_UNIT_KIND: "所选单位的层级不对，请重新选择",
  COUNSELOR_NOT_FOUND: "没有这位在任的辅导员",
  COUNSELOR_ENDED: "这位辅导员已离任",
  INVALID_DATE: "日期不正确，请检查：不能填写未来的日期，格式如 2025-09-01",

  // Pupils
  PUPIL_NOT_FOUND: "没有这名队员，或您无权查看",
  PUPIL_NOT_CURRENT: "这名队员已离队、入团或转出，不能参加",
  DUPLICATE_PUPIL: "该身份证号码已登记为本县另一名队员",
  INVALID_PUPIL: "队员信息不正确，请检查后重试",
  INVALID_ID_NUMBER: "身份证号码不正确，请核对后重新填写",
  ID_NUMBER_MISMATCH: "性别或出生日期与身份证号码不一致",
  INVALID_GENDER: "性别应为男或女",
  GENDER_REQUIRED: "请填写性别或身份证号码",
  INVALID_STATUS_CHANGE: "队员状态不能这样变更",
  NOT_PRE_MEMBER: "只有预备队员可以入队",
  INVALID_BATCH: "每批入队人数应为 1–500 人",
  INVALID_PUPILS: "请选择队员，一次不要选太多",
  INVALID_YEAR: "学年不正确，请写成 2025 这样的年份（即 2025—2026 学年）",
  SAME_COUNTY: "县内调动请用「调中队」，不需要转学",
  TRANSFER_DECIDED: "这份转学申请已被处理",
  TRANSFER_NOT_FOUND: "没有这份待接收的转学申请",
  DATA_REQUEST_NOT_FOUND: "没有这项个人信息请求",
  PENDING_TRANSFER: "这名队员正在转学，待转入县（区）接收或退回后再删除",
  TOO_LONG: "填写的文字过长，请删减后重试",

  // Badges
  BADGE_NOT_FOUND: "没有这枚奖章",
  AWARD_NOT_FOUND: "没有这项奖章或评选记录，或它已不在这一步",
  AWARD_REFUSED: "不能颁发这枚奖章",
  DUPLICATE_AWARD: "该队员本学年（学期）已获得或正在评选这枚奖章",
  SELECTION_REQUIRED: "这枚奖章须经评选：提名、审核、公示后颁发",
  NO_SELECTION: "这枚奖章不经评选，请直接颁发",
  COLLECTIVE_BADGE: "集体奖章颁给中队或大队，不颁给个人",
  NOT_COLLECTIVE: "这不是集体奖章",
  TERM_REQUIRED: "基础章按学期颁发：请填写第 1 或第 2 学期",
  CONFERRED_BY_REQUIRED: "四星、五星章由上级授予：请填写授予单位",
  PREREQUISITE_MISSING: "有队员尚未获得低一级的奖章（一星章须先获得全部基础章），不能提名",
  QUOTA_EXCEEDED: "超出本级奖章的评选名额",
  MIXED_UNITS: "一星章只能一次提名同一中队的队员，二星章只能一次提名同一学校的队员",
  WRONG_STEP: "有评选记录不在这一步，请刷新后查看当前进度",
  NOTICE_NOT_ENDED: "公示期尚未结束，不能确认颁发",
  OBJECTIONS_OPEN: "还有异议未处理，请处理后再确认颁发",
  NOT_UNDER_NOTICE: "只有公示期间可以提出异议",
  CONTENT_REQUIRED: "请写明异议内容",
  OBJECTION_NOT_FOUND: "没有这条异议",
  ALREADY_RESOLVED: "这条异议已处理",
  NOT_AWARDED: "只能撤销已颁发的奖章；评选中的请在审核或公示中处理",
  REASON_REQUIRED: "请写明理由",
  INVALID_NOTICE: "公示截止日期应在今天之后",
  INVALID_LEVEL: "奖章级别不符合要求，请重新选择",
  INVALID_PERCENT: "名额百分比应在 0–100 之间",
  INVALID_POINTS: "积分超出允许的范围（0–100000）",
  SUBJECT_REQUIRED: "积分规则须指定一枚奖章或一个奖章级别，二者只选其一",

  // Points
  INSUFFICIENT_POINTS: "可用积分不足，本次没有扣除积分",
  INVALID_EXPIRY: "积分有效期应为 1–10 个学年",
  INVALID_AMOUNT: "数额应为大于零的数字",
  ACCOUNT_NOT_FOUND: "没有这个积分账户，请联系管理员",
  HOLD_NOT_FOUND: "没有这笔预留积分，请联系管理员",
  HOLD_CLOSED: "这笔预留积分已结算或已取消",
  TRANSACTION_NOT_FOUND: "没有这笔积分记录，请联系管理员",
  ALREADY_REVERSED: "这笔积分已冲正过",
  IDEMPOTENCY_KEY_REUSED: "重复提交的积分操作与第一次不一致，请联系管理员",
  UNBALANCED_TRANSACTION: "积分记账不平衡，请联系管理员",

  // Activities
  ACTIVITY_NOT_FOUND: "没有这项活动，或您无权查看",
  SIGNUP_NOT_FOUND: "没有这条报名",
  INVALID_ACTIVITY: "活动信息有误，请检查后重试",
  SIGNUP_REFUSED: "不能报名这项活动",
  ALREADY_SIGNED_UP: "已报名这项活动，请勿重复报名",
  NOT_OPEN: "这项活动现在不能报名或签到",
  OUTSIDE_WINDOW: "不在报名或提交的时间内",
  NOT_ELIGIBLE: "这名队员不符合参加条件（单位、年级或地区）",
  NOT_SIGNED_UP: "这名队员没有确认的报名，不能签到",
  ALREADY_ATTENDED: "已有队员签到，不能取消活动",
  OUTSIDE_ACTIVITY_TIME: "不在活动时间内，不能签到（最早可在开始前一小时签到）",
  WRONG_CHECKIN_CODE: "签到码不正确，请核对现场公布的签到码",
  NOT_CANCELLABLE: "这条报名已结束，不能取消",
  TOO_LATE: "已过取消报名的截止时间",
  NOT_CANCELLED: "活动未取消，不能退还报名积分",
  FINISHED: "已结束的活动不能取消",
  NOT_EDITABLE: "已发布的活动或任务只能修改部分内容，已结束的不能修改",
  INVALID_TIME: "时间不正确：结束时间应晚于开始时间，报名截止应晚于报名开始",
  INVALID_WINDOW: "时间安排不合理，请检查开始、截止和报名时间",
  INVALID_CAPACITY: "名额应为 1–100000，且不能少于已确认报名的人数",
  INVALID_GRADES: "年级应为 1–9",
  INVALID_ORGANISER: "活动和任务只能由县、乡镇（街道）、学校或中队组织",
  TITLE_REQUIRED: "请填写名称，且不要过长",
  INVALID_STATE: "当前状态下不能进行这项操作，请刷新后查看",

  // Exchange
  ITEM_NOT_FOUND: "没有这件兑换物品，或已下架",
  PARTNER_NOT_FOUND: "没有这个合作单位",
  INVALID_ITEM: "兑换物品信息有误，请检查后重试",
  REDEMPTION_REFUSED: "不能兑换",
  OUT_OF_STOCK: "已兑完",
  LIMIT_REACHED: "这件物品的兑换次数已用完",
  OUTSIDE_VALIDITY: "不在兑换期内",
  CODE_NOT_FOUND: "兑换码无效，请核对后重新输入",
  CODE_USED: "这个兑换码已核销过",
  CODE_EXPIRED: "兑换码已过期，积分和库存已退还",
  INVALID_PRICE: "兑换积分超出允许的范围",
  INVALID_STOCK: "库存数量不正确：不能少于零，也不能过大",
  INVALID_LIMIT: "数量限制超出允许的范围（每名队员限兑 1–100 件）",
  INVALID_VALIDITY: "兑换截止应晚于开始",
  INVALID_PICKUP_DAYS: "领取期限应为 1–365 天",

  // Collection tasks
  TASK_NOT_FOUND: "没有这项征集任务",
  SUBMISSION_NOT_FOUND: "没有这份提交",
  INVALID_TASK: "征集任务信息有误，请检查后重试",
  INVALID_SUBMISSION: "提交的内容有误：附件须为 https 链接，最多 9 个",
  SUBMISSION_REFUSED: "不能提交",
  TASK_NOT_OPEN: "这项征集任务不在进行中",
  IS_A_LESSON: "在线课程请记录「完成学习」，不需提交",
  NOT_A_LESSON: "这项征集不是在线课程",
  INVALID_ANSWERS: "问卷回答与题目不符，请检查后重试",
  INVALID_QUESTIONS: "问卷题目有误：至少要有一道题，且每道题须填写完整",
  INVALID_CONTENT_URL: "在线课程须填写课程链接，其他类型的任务不填",
  INVALID_BADGE: "征集任务只能颁发本县的特色章",
  INVALID_KIND: "类型不正确，请重新选择",
  ALREADY_REVIEWED: "这份提交已审核过",
  ALREADY_APPROVED: "已通过审核的作品不能再修改或重新提交",
  NOTE_REQUIRED: "退回须写明理由，家长和队员才知道如何修改",
  INVALID_NOTE: "审核意见过长，请删减",

  // Pairing
  PAIRING_NOT_FOUND: "没有这个结对",
  PAIRING_REFUSED: "不能结对",
  PAIRING_NOT_ACTIVE: "结对不在进行中",
  PAIRING_NOT_ENDED: "结对结束后才能写总结",
  ALREADY_PAIRED: "这两方已有进行中或待确认的结对",
  PUPIL_ALREADY_PAIRED: "这名队员的手拉手结对已达本县（区）规定的上限",
  NOT_YOUR_SIDE: "只能为本县（区）的一方操作",
  SIDE_NOT_FOUND: "结对的一方不存在、不在您的管理范围内或已不能结对",
  PARTNER_UNAVAILABLE: "对方不存在或现在不能结对",
  INVALID_SIDE: "结对双方不符合要求：层级不对，或选了同一方",
  INVALID_CATEGORY: "结对类别不正确，或结束日期早于开始日期",
  INVALID_EVENT: "活动记录不正确：这类活动不属于这一层级的结对，或日期在未来",
  NOT_IN_PAIRED_SCHOOL: "手拉手的队员应是结对学校的队员",
  COUNTY_NOT_IN_REGION: "指定的县（区）不在您的辖区内",
  TEXT_TOO_LONG: "文字过长，请删减后重试",

  // Care and volunteering
  CARE_RECORD_NOT_FOUND: "没有这条关爱记录",
  CARE_REFUSED: "关爱记录有误，请检查后重试",
  CARE_ENDED: "这条关爱记录已结束",
  ALREADY_IN_CARE: "这名队员已有同类的关爱记录",
  CARER_INELIGIBLE: "关爱人须是本县（区）的工作人员（辅导员、志愿者）",
  CARER_NOT_FOUND: "这条记录上没有这位关爱人",
  PROJECT_NOT_FOUND: "没有这个志愿服务项目",
  ALREADY_CLAIMED: "这个项目已被其他小队认领",
  TEXT_REQUIRED: "请填写必填的文字，且不要过长",

  // Statistics
  INVALID_PERIOD: "日期范围不正确：截止日期不能晚于今天，起始日期不能晚于截止日期",
  INVALID_REGION: "地区代码应为 2 位（省）或 4 位（地市）数字",
  REGION_NOT_FOUND: "没有这个地区，或不在您的辖区内",
  NO_SUMMARY_YET: "该地区还没有汇总统计，请稍后再试",

  // Imports and files
  UPLOAD_NOT_FOUND: "没有这个上传的文件（或已导入过），请重新上传",
  FILE_TOO_LARGE: "文件太大，请拆分后再上传",
  NOT_XLSX: "文件不是 Excel（.xlsx）格式，请另存为 .xlsx 后再上传",
  NO_FILE: "没有收到文件，请选择文件后再上传",
  EMPTY_FILE: "文件中没有数据行，请填写后再上传",
  UNREADABLE_FILE: "无法读取这个文件，请用 Excel 或 WPS 打开后另存为 .xlsx 再上传",
  NO_HEADERS: "文件中没有模板的表头，请下载模板填写后上传",
  TOO_MANY_ROWS: "表格行数太多，请拆分成几个文件分别导入",
  NO_REPORT: "这次导入没有错误报告，或报告已过期删除；请重新导入",
  NO_ROOT_UNIT: "本县（区）还没有组织架构的根单位，请联系平台运维",

  // Rows of an import
  REQUIRED: "这一格不能为空",
  INVALID_CHOICE: "填写的值不在可选项中，请从下拉列表中选择",
  INVALID_ROW: "这一行有误",
  UNREADABLE_CELL: "这一格的内容无法识别，请检查格式",
  DUPLICATE_ROW: "与前面某一行重复，请删去重复的一行",
  AMBIGUOUS_UNIT: "本县有多所学校同名，请写学校全称，或同时填写乡镇（街道）",
  AMBIGUOUS_PUPIL: "该中队有多名同名队员，请填写身份证号码",
  OUT_OF_SCOPE: "这一行不在您可管理的范围内",
  MASKED_ID_NUMBER: "身份证号码已打码，无法导入；请用有权查看身份证号码的账号导出，或清空该格",
  GRADE_CHANGE: "中队的年级与平台登记的不一致；年级请在平台中修改",
  INVALID_STATUS: "新登记的队员，状态只能是少先队员或预备队员",

  // The county's apps
  INVALID_QUERY: "要登记的查询不是本 API 的有效操作",
  QUERY_NOT_REGISTERED: "没有登记这个查询",
  ALLOW_LIST_EMPTY: "还没有登记任何查询，不能只允许已登记的查询",
  TOO_MANY_QUERIES: "登记的查询过多，每个县（区）最多 1000 个",
  INVALID_ORIGIN: "网页来源的格式不正确，应为 https 开头的网址",
  TOO_MANY_ORIGINS: "网页来源过多，最多登记 20 个",

  // Command line only
  COUNTY_EXISTS: "该县（区）已存在",
  PREFECTURE_EXISTS: "该地市已存在，且名称与填写的不同",
  CODE_MISMATCH: "地市代码不属于所填的省",
  EXPORT_FAILED: "导出或恢复失败",
  USER_NOT_FOUND: "没有这个用户名的账号",
  INVALID_CONFIGURATION: "平台配置有误，请联系平台运维",
  DEMO_COUNTIES: "演示数据的县（区）数量不符合要求（至少两个）",
  DEMO_PUPILS: "演示数据的队员人数至少为 1",
  DEMO_COUNTY_NOT_EMPTY: "该县（区）已有数据，不能再生成演示数据",
  DEMO_RUN_MISMATCH: "同一批次的演示数据已用其他参数生成过",
});

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;

// Codes whose server message speaks to the operator (it names a command or a setting): the
// person at the console reads this module's instead.
const FOR_THE_OPERATOR = new Set(["DATABASE_UNAVAILABLE", "DATABASE_NOT_MIGRATED",
  "PERSISTED_QUERY_NOT_FOUND", "INTERNAL_ERROR", "INVALID_CONFIGURATION"]);

// The message to show for an error: the server's own when it is Chinese, otherwise this
// module's for the code, otherwise a generic one that names the code.
export function messageFor(code, serverMessage) {
  if (typeof serverMessage === "string" && CJK.test(serverMessage) && !FOR_THE_OPERATOR.has(code)) {
    return serverMessage;
  }
  if (typeof code === "string" && Object.prototype.hasOwnProperty.call(MESSAGES, code)) {
    return MESSAGES[code];
  }
  if (typeof code === "string" && code !== "") {
    return "操作未成功（错误代码 " + code + "），请稍后再试或联系管理员";
  }
  return "操作未成功，请稍后再试或联系管理员";
}
